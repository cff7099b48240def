#!/bin/sh
# websocketd echo: every line the client sends comes back as a message.
while IFS= read -r line; do
  printf '%s\n' "$line"
done
