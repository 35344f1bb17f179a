"""Automatic order review: rules a manager writes, the decisions they make, and the exception queue."""
