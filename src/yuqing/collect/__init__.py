"""Collection at work: running sources into the pipeline, on a schedule, with health kept."""
