"""What the commands read: AWS, read-only (the guarded session and its clients, per-Region scanning, several accounts,
CloudTrail key use, the Config aggregator, Regions, the deployment's prerequisites), the CDK app's deployment context,
and the progress shown meanwhile."""
