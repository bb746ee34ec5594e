"""`python -m cfngen` is `cfngen`."""

from cfngen.cli import main

main()
