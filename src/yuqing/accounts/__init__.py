"""Accounts: users, roles and what each may do, passwords, sessions and API tokens."""
