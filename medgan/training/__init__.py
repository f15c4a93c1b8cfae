"""medgan.training"""
