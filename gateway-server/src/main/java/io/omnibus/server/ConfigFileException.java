package io.omnibus.server;

/** A configuration file that cannot be used: says which file, and which key or line, and what is wrong. */
public final class ConfigFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final String problem;

    public ConfigFileException(String file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    public String file() {
        return file;
    }

    public String problem() {
        return problem;
    }
}
