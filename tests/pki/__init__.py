"""Test PKI (certomancer) and PKCS#11 token (SoftHSM2) fixtures for signature tests."""
