"""Operations: health, metrics, the outbox and its dead letters."""
