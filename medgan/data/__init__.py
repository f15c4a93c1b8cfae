"""medgan.data"""
