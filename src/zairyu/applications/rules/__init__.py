"""Pure rules of an application, without models of their own: timing (F-01), the identity
cross-check against the registry (F-02) and the receipt method (F-07).

Each rule returns :class:`~zairyu.applications.rules.results.Problem` values; the web steps, the
API, bulk import and the submission service all ask the same functions.
"""
