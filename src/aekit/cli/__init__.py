"""aekit's command-line interface (typer). Heavy libraries are imported inside commands."""
