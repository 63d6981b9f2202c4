"""The report: compare checkpoints on the results table (clustered intervals, paired
differences, Holm-corrected tests, trajectories over training steps), print the terminal
summary with its eval-awareness lines, and render Markdown and one self-contained HTML page
from the Jinja templates in ``templates/`` (the agreement and gold reports use them too)."""
