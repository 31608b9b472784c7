"""The demo's mock AWS account, the only place moto is imported: the demonstration fleet, real-shaped Config events, and
what moto does not model (Config results, CloudTrail)."""
