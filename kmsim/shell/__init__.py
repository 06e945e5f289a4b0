"""The shell: parser, commands, the batch runner and the interactive REPL."""
