"""medgan.benchmark"""
