"""Funding: EU calls, consortium eligibility, partner search from CORDIS, project budgets."""
