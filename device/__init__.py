"""The lean runtime that runs on the unit: sources, hands, pipeline, publishing."""
