"""Signing: PAdES signatures on rendered documents (:mod:`.sign`), their validation
(:mod:`.check`) and naming who signed a document (:mod:`.signer_of`)."""
