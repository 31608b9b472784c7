"""Why each mutant that survives ``python3 tasks.py mutate`` is equivalent or harmless (mutmut's mutant name -> one
sentence). benchmarks/MUTATION.md lists a survivor without an entry here as "not explained": that is a missing test."""

from __future__ import annotations

EXPLAINED: dict[str, str] = {
    # --- request.py, parameters.py, verdict.py, keys.py ---
    # --- aws.py, config_reporter.py, securityhub_reporter.py, engine.py, runner.py ---
    "cmk_rule.aws.xǁAwsClientsǁclient__mutmut_18": (
        "copy.copy instead of copy.deepcopy: botocore writes to a Config's retries dict only when it lacks"
        " total_max_attempts or mode (botocore.args.ClientArgsCreator._compute_retry_max_attempts and"
        " _compute_retry_mode), and"
        " _CLIENT_SETTINGS sets both, so the shared dict is never written and a shallow copy behaves the same."
    ),
    "cmk_rule.config_reporter.xǁConfigReporterǁ_send_batch__mutmut_2": (
        "unidentified starts True: send_with_retries always calls send at least once, and send either sets"
        " unidentified[0] from the response or (an AWS error) returns [] so that no evaluation is still failing and"
        " the 'why' the flag chooses is never used."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_send_batch__mutmut_2": (
        "unidentified starts True: send_with_retries always calls send at least once, and send either sets"
        " unidentified[0] from the response or (an AWS error) returns [] so that no finding is still failing and the"
        " 'why' the flag chooses is never used."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_existing__mutmut_53": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_existing__mutmut_57": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_existing__mutmut_58": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_existing__mutmut_59": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_send_batch__mutmut_8": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_send_batch__mutmut_12": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_send_batch__mutmut_13": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.xǁSecurityHubReporterǁ_send_batch__mutmut_14": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.securityhub_reporter.x_content_digest__mutmut_4": (
        "the name the rule's product fields carry inside the hashed document: the digest is never stored or sent,"
        " only compared with another digest computed by the same function in the same run, so any name gives the"
        " same answers."
    ),
    "cmk_rule.securityhub_reporter.x_content_digest__mutmut_5": (
        "the name the rule's product fields carry inside the hashed document: the digest is never stored or sent,"
        " only compared with another digest computed by the same function in the same run, so any name gives the"
        " same answers."
    ),
    "cmk_rule.securityhub_reporter.x_content_digest__mutmut_6": (
        "the name the rule's product fields carry inside the hashed document: the digest is never stored or sent,"
        " only compared with another digest computed by the same function in the same run, so any name gives the"
        " same answers."
    ),
    "cmk_rule.engine.xǁEngineǁrun_periodic__mutmut_8": (
        "listing_complete = None instead of False: the flag is only ever tested for truth (here and in"
        " _deduplicated, which returns it unchanged), and None and False are both false."
    ),
    "cmk_rule.engine.xǁEngineǁrun_periodic__mutmut_66": (
        "listing_complete = None instead of False: the flag is only ever tested for truth (here and in"
        " _deduplicated, which returns it unchanged), and None and False are both false."
    ),
    "cmk_rule.engine.xǁEngineǁ_judge_into__mutmut_29": (
        "the fallback for an empty kms_key_id is never used: resolve is reached only when decide_without_key"
        " returned None, and it returns row 4's verdict for a group without a key id first."
    ),
    "cmk_rule.engine.x__stalest_first__mutmut_12": (
        "float() reads 'inf' case-insensitively: float('-INF') is float('-inf')."
    ),
    "cmk_rule.config_reporter.xǁConfigReporterǁ_send_batch__mutmut_13": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.config_reporter.xǁConfigReporterǁ_send_batch__mutmut_17": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.config_reporter.xǁConfigReporterǁ_send_batch__mutmut_18": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
    "cmk_rule.config_reporter.xǁConfigReporterǁ_send_batch__mutmut_19": (
        "typing.cast returns its second argument unchanged at run time; its first (the type, a string) is only"
        " read by mypy."
    ),
}
