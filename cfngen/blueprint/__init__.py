"""The blueprint pipeline: load -> select env -> interpolate -> validate (see docs/blueprint.md)."""
