"""medgan.models"""
