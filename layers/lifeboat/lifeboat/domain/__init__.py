"""Pure domain: models and rules. Nothing in this package may import boto3 or botocore."""
