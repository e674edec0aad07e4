"""tweetchat: a bot that hosts scheduled hashtag chats and keeps their transcripts."""
