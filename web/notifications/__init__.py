"""In-app notifications (消息通知): the list page, marking read, and the unread count in the top bar."""
