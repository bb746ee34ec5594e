"""Deploy rendered environments through CloudFormation change sets.

Nothing in this package is imported by `cfngen render`: it needs boto3, which the compiler does
not. The CLI imports it lazily inside the deploy commands.

Exit codes of the deploy commands (also in docs/deploying.md):

    0  success (plan --detailed-exitcode: no changes)
    1  an operation failed (a stack failed or rolled back, a safety check refused, AWS error)
    2  bad input or usage (unknown stack, no terminal and no --yes, template over 1 MB)
    2  plan --detailed-exitcode only: the plan succeeded and changes are present
  130  interrupted with Ctrl-C (stacks may still be running server-side; re-run to resume)
"""
