"""The blueprint pipeline: load -> select env -> interpolate -> validate (see DESIGN.md)."""
