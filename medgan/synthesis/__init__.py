"""medgan.synthesis"""
