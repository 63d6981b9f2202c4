"""What is evaluated and how it is called: the checkpoints file and its model specs, named
base models built on first use, model-name checks, generation settings and their precedence,
chat-template continuation, and the Inspect ``Model`` each checkpoint becomes."""
