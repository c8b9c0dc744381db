"""Text analysis models: sentiment, rumour, offensive language, harm types, category."""
