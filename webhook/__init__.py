"""The admission webhook: validates, defaults and enforces policies on Argo objects."""
