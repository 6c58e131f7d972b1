import Hummingbird
import Metrics
import Mustache
import Prometheus
