"""Characters: consented likenesses a user uploads once and others may use with permission.

``records`` holds the rows, ``look`` reads reference frames and a character's look from its
video, ``rules`` screens prompts against the owner's text rules, ``service`` applies the
consent model (tiers, access requests, revocation, co-ownership of the videos that use them).
"""
