package io.omnibus.oms;

import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.openmessaging.api.OMSResponseStatus;
import io.openmessaging.api.exception.OMSDestinationException;
import io.openmessaging.api.exception.OMSMessageFormatException;
import io.openmessaging.api.exception.OMSRuntimeException;
import io.openmessaging.api.exception.OMSSecurityException;
import io.openmessaging.api.exception.OMSTimeOutException;
import io.openmessaging.api.exception.OMSUnsupportException;

import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/** The gateway's answers and the driver's failures as OpenMessaging's exceptions, each with a status and a cause. */
final class Errors {
    private Errors() {
    }

    /** The exception for an error answer to {@code what}. */
    static OMSRuntimeException of(String what, RemotingCommand answer) {
        String message = what + ": the gateway answered " + answer.code() + (answer.remark() == null ? "" : " (" + answer.remark() + ")");
        return switch (answer.code()) {
            case ResponseCode.TOPIC_NOT_EXIST -> new OMSDestinationException(OMSResponseStatus.STATUS_1404.getStatusCode(), message);
            case ResponseCode.NO_PERMISSION -> new OMSSecurityException(OMSResponseStatus.STATUS_1403.getStatusCode(), message);
            case ResponseCode.MESSAGE_ILLEGAL -> new OMSMessageFormatException(
                    answer.remark() != null && answer.remark().contains("size") ? OMSResponseStatus.STATUS_1413.getStatusCode()
                            : OMSResponseStatus.STATUS_1400.getStatusCode(), message);
            case ResponseCode.SERVICE_NOT_AVAILABLE, ResponseCode.SYSTEM_BUSY ->
                    new OMSRuntimeException(OMSResponseStatus.STATUS_1503.getStatusCode(), message);
            case ResponseCode.REQUEST_CODE_NOT_SUPPORTED -> new OMSUnsupportException(
                    OMSResponseStatus.STATUS_1400.getStatusCode(), message);
            default -> new OMSRuntimeException(OMSResponseStatus.STATUS_1500.getStatusCode(), message);
        };
    }

    /** The exception for a failed call ({@code cause} unwrapped from the future's wrappers). */
    static OMSRuntimeException of(String what, Throwable cause) {
        Throwable c = cause;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof OMSRuntimeException oms) {
            return oms;
        }
        if (c instanceof TimeoutException) {
            return new OMSTimeOutException(OMSResponseStatus.STATUS_1410.getStatusCode(), what + ": " + c.getMessage(), c);
        }
        if (c instanceof IOException) {
            return new OMSRuntimeException(OMSResponseStatus.STATUS_1503.getStatusCode(), what + ": " + c.getMessage(), c);
        }
        return new OMSRuntimeException(OMSResponseStatus.STATUS_1500.getStatusCode(), what + ": " + c, c);
    }

    static OMSRuntimeException badParameter(String message) {
        return new OMSRuntimeException(OMSResponseStatus.STATUS_1418.getStatusCode(), message);
    }

    static OMSUnsupportException unsupported(String what) {
        return new OMSUnsupportException(OMSResponseStatus.STATUS_1400.getStatusCode(), what
                + " is not supported by the omnibus driver");
    }

    static OMSRuntimeException notStarted(String what) {
        return new OMSRuntimeException(OMSResponseStatus.STATUS_1400.getStatusCode(), what + " is not started, or shut down");
    }
}
