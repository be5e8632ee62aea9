"""The portfolio: every intervention's verdict side by side, and national progress.

`build` reads the results in `analyses/`, adjusts p-values for multiplicity and measures national
progress from the incident store; `analyses/portfolio.json` is what the portfolio page reads.
"""
