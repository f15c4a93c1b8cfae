"""medgan.evaluation"""
