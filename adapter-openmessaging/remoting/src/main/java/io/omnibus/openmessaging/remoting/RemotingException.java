package io.omnibus.openmessaging.remoting;

/** A request that gets an error response: the RocketMQ response code and the remark that explains it. */
public final class RemotingException extends RuntimeException {
    private final int code;

    public RemotingException(int code, String remark) {
        super(remark, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }
}
