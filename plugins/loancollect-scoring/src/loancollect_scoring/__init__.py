"""Trained collection scores and contact-time optimisation for loancollect."""
