"""The synthetic sample city and the sample forecast the project generates itself.
"""
