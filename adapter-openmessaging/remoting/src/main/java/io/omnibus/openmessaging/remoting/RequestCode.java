package io.omnibus.openmessaging.remoting;

/** The RocketMQ request codes the gateway serves or sends (the numbers are the wire's). */
public final class RequestCode {
    public static final int SEND_MESSAGE = 10;
    public static final int PULL_MESSAGE = 11;
    public static final int QUERY_CONSUMER_OFFSET = 14;
    public static final int UPDATE_CONSUMER_OFFSET = 15;
    public static final int SEARCH_OFFSET_BY_TIMESTAMP = 29;
    public static final int GET_MAX_OFFSET = 30;
    public static final int GET_MIN_OFFSET = 31;
    public static final int GET_EARLIEST_MSG_STORETIME = 32;
    public static final int VIEW_MESSAGE_BY_ID = 33;
    public static final int HEART_BEAT = 34;
    public static final int UNREGISTER_CLIENT = 35;
    public static final int CONSUMER_SEND_MSG_BACK = 36;
    public static final int END_TRANSACTION = 37;
    public static final int GET_CONSUMER_LIST_BY_GROUP = 38;
    /** Sent by the broker to a producer: what became of this half message? */
    public static final int CHECK_TRANSACTION_STATE = 39;
    /** Sent by the broker to the consumers of a group when its membership changes. */
    public static final int NOTIFY_CONSUMER_IDS_CHANGED = 40;
    public static final int LOCK_BATCH_MQ = 41;
    /** A consumer with a SQL92 subscription asks whether the broker takes its filter before it starts. */
    public static final int CHECK_CLIENT_CONFIG = 46;
    public static final int UNLOCK_BATCH_MQ = 42;
    public static final int GET_ROUTEINFO_BY_TOPIC = 105;
    public static final int SEND_MESSAGE_V2 = 310;
    public static final int SEND_BATCH_MESSAGE = 320;
    public static final int LITE_PULL_MESSAGE = 361;

    private RequestCode() {
    }
}
