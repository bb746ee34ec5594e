"""cfngen: YAML blueprints -> modular CloudFormation stacks, deployed through change sets."""

__version__ = "0.1.0"
