package io.omnibus.server;

import jakarta.jms.Connection;
import jakarta.jms.Session;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The web console in a real browser (Debian's chromium, driven through chromedriver) against a running gateway with
 * MQTT (Paho), AMQP (Qpid JMS) and Kafka (kafka-clients) clients connected: every page loads without a script error
 * and shows what the clients are doing, and the actions work (a purge empties a backlog, a disconnect closes the
 * client). Screenshots of each page go to {@code target/console-screenshots} (docs/console.md shows them).
 */
@Timeout(300)
class ConsoleIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SHOTS = Path.of("target/console-screenshots");

    @TempDir
    static Path dir;
    private static Gateway gateway;
    private static AdminHttp admin;
    private static WebDriver browser;
    private static final List<AutoCloseable> clients = new ArrayList<>();
    private static final BlockingQueue<Integer> disconnects = new LinkedBlockingQueue<>();

    @BeforeAll
    static void start() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (System.getenv("OMNIBUS_REQUIRE_NATIVE_CLIENTS") != null) { // CI: missing is a failure, not a skip
            assertThat(present).as("chromium and chromium-driver (Debian packages) are installed").isTrue();
        }
        Assumptions.assumeTrue(present, "chromium and chromium-driver are not installed");
        gateway = ShippedGateway.start(dir.resolve("data"));
        admin = new AdminHttp(gateway.adminPort());
        connectClients();

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // headless, and none of Chromium's own network traffic: this machine's network is closed
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-quic", "--window-size=1280,900", "--user-data-dir=" + dir.resolve("chromium"));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SHOTS);
    }

    /** An MQTT session with a backlog, an MQTT device to disconnect, a JMS queue consumer, a Kafka group member. */
    private static void connectClients() throws Exception {
        MqttClient dashboard = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), "dashboard-7",
                new MemoryPersistence());
        MqttConnectionOptions persistent = new MqttConnectionOptions();
        persistent.setCleanStart(false);
        persistent.setSessionExpiryInterval(3600L);
        dashboard.connect(persistent);
        dashboard.subscribe("plant/line-4/#", 1);
        dashboard.disconnect(); // away: its readings wait as its backlog
        clients.add(dashboard::close);

        MqttClient device = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), "press-7", new MemoryPersistence());
        device.setCallback(PahoCallback.onDisconnect(r -> disconnects.add(r.getReturnCode())));
        device.connect(new MqttConnectionOptions());
        clients.add(device::close);
        for (int i = 0; i < 40; i++) {
            device.publish("plant/line-4/temp", ("{\"celsius\": " + (60 + i) + "}").getBytes(StandardCharsets.UTF_8), 1, false);
        }

        Connection jms = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        jms.setClientID("billing-service");
        jms.start();
        clients.add(jms::close);
        Session s = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
        s.createConsumer(s.createQueue("orders/#")).setMessageListener(m -> { });

        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + gateway.port("kafka"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "analytics");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "analytics-1");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> kafka = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        kafka.subscribe(List.of("plant.line-4.temp"));
        Thread poller = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    kafka.poll(Duration.ofMillis(200));
                }
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                // stopped
            } finally {
                kafka.close();
            }
        }, "console-it-kafka");
        poller.start();
        clients.add(() -> {
            kafka.wakeup(); // the poller leaves its loop and closes the consumer
            poller.join(10_000);
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> admin.array("/api/connections").size() >= 3
                && admin.subscriptionWithFilter("plant/line-4/#") != null
                && admin.subscriptionWithFilter("plant/line-4/#").getLong("backlog") == 40);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        ShippedGateway.stop(gateway, clients);
    }

    private static String url(String route) {
        return "http://127.0.0.1:" + gateway.adminPort() + "/console/#/" + route;
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(browser, Duration.ofSeconds(30));
    }

    private static void open(String route, String heading) {
        browser.get(url(route));
        waiting().until(ExpectedConditions.textToBe(By.tagName("h1"), heading));
    }

    private static void screenshot(String name) throws Exception {
        Files.write(SHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    /** No script errors: failed requests the page itself handled (a 404 it shows) are the browser's, not the page's. */
    private static void noScriptErrors() {
        List<String> errors = new ArrayList<>();
        for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue() && !e.getMessage().contains("Failed to load resource")) {
                errors.add(e.getMessage());
            }
        }
        assertThat(errors).isEmpty();
    }

    private static void confirm() {
        waiting().until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#confirm-dialog button.confirm-yes")))
                .click();
    }

    @Test
    void theOverviewShowsConnectionsPerProtocolAndLiveRates() throws Exception {
        open("overview", "Overview");
        waiting().until(ExpectedConditions.textToBe(By.id("health-status"), "UP"));
        // the counts the API gives, per protocol (other tests may have closed an MQTT client meanwhile)
        for (String protocol : List.of("mqtt", "amqp", "kafka")) {
            waiting().until(d -> {
                try {
                    return d.findElement(By.cssSelector("#connections-by-protocol [data-protocol=" + protocol + "]")).getText()
                            .equals(String.valueOf(admin.object("GET", "/api/overview").getJsonObject("connections")
                                    .getInteger(protocol)));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        assertThat(browser.findElement(By.cssSelector("#connections-by-protocol [data-protocol=amqp]")).getText()).isEqualTo("1");
        waiting().until(d -> d.findElements(By.cssSelector("#chart-messages path.series")).size() >= 2);
        assertThat(browser.findElement(By.id("store-info")).getText()).contains("file");
        screenshot("overview");
        noScriptErrors();
    }

    @Test
    void connectionsOfEveryProtocolAreListedAndADisconnectClosesTheClient() throws Exception {
        open("connections", "Connections");
        String press = admin.connection("press-7").getString("connectionId");
        WebElement row = waiting().until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#connections tr[data-connection-id='" + press + "']")));
        assertThat(row.getText()).contains("mqtt").contains("press-7");
        waiting().until(d -> d.findElement(By.id("connections")).getText().contains("billing-service"));
        waiting().until(d -> d.findElement(By.id("connections")).getText().contains("kafka"));
        screenshot("connections");

        row.findElement(By.cssSelector(".disconnect")).click();
        confirm();
        assertThat(disconnects.poll(30, TimeUnit.SECONDS)).isEqualTo(0x98); // MQTT 5: Administrative action
        waiting().until(ExpectedConditions.numberOfElementsToBe(
                By.cssSelector("#connections tr[data-connection-id='" + press + "']"), 0));
        noScriptErrors();
    }

    @Test
    void aSubscriptionsBacklogIsShownAndAPurgeEmptiesIt() throws Exception {
        String name = admin.subscriptionWithFilter("plant/line-4/#").getString("name");
        open("addresses", "Addresses and subscriptions");
        By row = By.cssSelector("#subscriptions tr[data-subscription='" + name + "']");
        waiting().until(d -> d.findElement(row).findElement(By.cssSelector("td.backlog")).getText().equals("40"));
        waiting().until(d -> d.findElement(By.id("topics")).getText().contains("plant/line-4/temp"));
        screenshot("addresses");

        browser.findElement(row).findElement(By.cssSelector(".purge")).click();
        confirm();
        waiting().until(d -> d.findElement(row).findElement(By.cssSelector("td.backlog")).getText().equals("0"));
        assertThat(admin.subscriptionWithFilter("plant/line-4/#").getLong("backlog")).isZero();

        browser.findElement(row).findElement(By.cssSelector(".pause")).click();
        waiting().until(d -> d.findElement(row).findElement(By.cssSelector("td.state")).getText().equals("paused"));
        assertThat(admin.subscriptionWithFilter("plant/line-4/#").getBoolean("paused")).isTrue();
        browser.findElement(row).findElement(By.cssSelector(".resume")).click();
        waiting().until(d -> d.findElement(row).findElement(By.cssSelector("td.state")).getText().equals("active"));
        noScriptErrors();
    }

    @Test
    void aStoredMessageIsShownAsEveryProtocolWouldDeliverIt() throws Exception {
        browser.get(url("messages?address=" + AdminHttp.segment("plant/line-4/temp") + "&partition=0"));
        waiting().until(ExpectedConditions.textToBe(By.tagName("h1"), "Messages"));
        WebElement first = waiting().until(ExpectedConditions.elementToBeClickable(
                By.cssSelector("#messages tr[data-offset='39']")));
        assertThat(first.getText()).contains("99");
        first.click();
        WebElement kafka = waiting().until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#message-detail section[data-protocol=kafka]")));
        waiting().until(d -> kafka.getText().contains("plant.line-4.temp"));
        WebElement mqtt3 = browser.findElement(By.cssSelector("#message-detail section[data-protocol=mqtt3]"));
        // from an MQTT 5 publisher to MQTT 3.1.1: what 3.1.1 cannot carry is shown lost
        waiting().until(d -> !mqtt3.findElements(By.cssSelector("tr.lost")).isEmpty());
        screenshot("messages");
        noScriptErrors();
    }

    @Test
    void theTranslationTableFiltersByProtocolPair() throws Exception {
        open("translation", "Translation");
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("from"))).selectByValue("kafka");
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("to"))).selectByValue("mqtt3");
        waiting().until(d -> !d.findElements(By.cssSelector("#translation tr.lost")).isEmpty());
        screenshot("translation");
        noScriptErrors();
    }
}
