"""Domain-name expiry (docs/design.md §19.2): RDAP servers from IANA's bootstrap
(``bootstrap``), one registry query per registrable domain (``rdap``, ``names``), and the
periodic task that keeps every monitor's ``probed_domain_expiry_timestamp_seconds`` (``watch``).

Nothing here is on a check's path: a registry that does not answer leaves the expiry unknown
and never fails a check.
"""
