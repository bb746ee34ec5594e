"""Build helpers the kinds share: the builder context and stack plan (base), waivers and log
groups (common), IAM documents (iam), hardened buckets and instances (hardened), container
settings and task definitions (containers, task_definition) and host boot scripts (user_data).

The component kinds themselves are in cfngen.kinds.
"""
