"""Trading partners: who sends EDI documents on a channel, which customer they are, how their items and
units map to ours, and which documents they expect back."""
