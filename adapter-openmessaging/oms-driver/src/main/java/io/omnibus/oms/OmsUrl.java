package io.omnibus.oms;

import io.openmessaging.api.MessagingAccessPoint;
import io.openmessaging.api.OMS;
import io.openmessaging.api.OMSBuiltinKeys;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Properties;

/**
 * The {@code oms:omnibus://host:port/namespace} URLs of the older OpenMessaging samples: the driver, the gateway's
 * RocketMQ port and an optional namespace (a first address level for every topic and group).
 *
 * <pre>{@code
 * MessagingAccessPoint ap = OmsUrl.accessPoint("oms:omnibus://localhost:9876/shop");
 * }</pre>
 */
public final class OmsUrl {
    /** The attribute holding the namespace. */
    public static final String NAMESPACE = "omnibus.namespace";
    private static final String PREFIX = "oms:omnibus://";

    private OmsUrl() {
    }

    /** The access point a URL names. */
    public static MessagingAccessPoint accessPoint(String url) {
        return accessPoint(url, new Properties());
    }

    /** The access point a URL names, with further attributes. */
    public static MessagingAccessPoint accessPoint(String url, Properties attributes) {
        Properties p = attributes(url);
        p.putAll(attributes);
        return OMS.builder().driver("omnibus").endpoint(p.getProperty(OMSBuiltinKeys.ENDPOINT)).build(p);
    }

    /** The attributes a URL stands for: driver, endpoint and namespace. */
    public static Properties attributes(String url) {
        Properties p = new Properties();
        p.setProperty(OMSBuiltinKeys.DRIVER, "omnibus");
        p.setProperty(OMSBuiltinKeys.ENDPOINT, endpointOf(url));
        URI uri = parse(url);
        String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("^/+|/+$", "");
        if (!path.isEmpty()) {
            if (!path.matches("[a-zA-Z0-9_-]+")) {
                throw Errors.badParameter("the namespace '" + path + "' of " + url + " must be letters, digits, '_' or '-'");
            }
            p.setProperty(NAMESPACE, path);
        }
        return p;
    }

    static String endpointOf(String url) {
        URI uri = parse(url);
        if (uri.getHost() == null || uri.getPort() < 0) {
            throw Errors.badParameter("the URL " + url + " names no host:port");
        }
        return uri.getHost() + ":" + uri.getPort();
    }

    private static URI parse(String url) {
        if (url == null || !url.startsWith(PREFIX)) {
            throw Errors.badParameter("an omnibus OMS URL starts with " + PREFIX + ", not " + url);
        }
        try {
            return new URI(url.substring("oms:".length()));
        } catch (URISyntaxException e) {
            throw Errors.badParameter("the URL " + url + " is malformed: " + e.getMessage());
        }
    }
}
