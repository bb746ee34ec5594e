"""Component kinds: one module (or package) per kind, each with one `Kind` record named `KIND`.

The list of kinds is made in cfngen.registry, by finding the modules of this package; adding
a kind is adding a module here. The contract is in cfngen.kinds.base.
"""
