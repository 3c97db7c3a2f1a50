# Redis topologies on loopback ports from Debian's redis-server (7.0), for benches and script tests.
# Sourced after common.sh, never executed. Each function takes a directory that holds the nodes' data,
# logs and a "pids" file; redis_topology_stop <dir> kills what it started there. The C++ tests use
# tests/support/redis_topology.hpp instead (same shapes).
#
#   redis_cluster_start <dir>    3 primaries (--cluster-enabled, redis-cli --cluster create, no replicas)
#   redis_sentinel_start <dir>   a primary, one replica, 3 sentinels (quorum 2) monitoring it as "helmgate"
# Both set REDIS_TOPOLOGY_URL (redis+cluster://... or redis+sentinel://.../helmgate) and REDIS_NODE_PORTS
# (data node ports, primary first); sentinel also sets REDIS_SENTINEL_PORTS and REDIS_MASTER_NAME.

# redis_node_start <dir> <name> <port> [redis-server args...]: AOF everysec, like scripts/testenv's Redis.
redis_node_start() {
  local dir=$1 name=$2 port=$3; shift 3
  mkdir -p "$dir/$name"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/$name" --appendonly yes --appendfsync everysec \
    --save '' --daemonize no --logfile "$dir/$name/redis.log" "$@" &
  echo $! >>"$dir/pids"; disown $!  # stopped by redis_topology_stop, quietly
  local i
  for i in $(seq 100); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  die "redis-server $name on port $port did not start: $(tail -5 "$dir/$name/redis.log")"
}

redis_cluster_start() {
  local dir=$1 i port bus addrs=()
  mkdir -p "$dir"
  REDIS_NODE_PORTS=()
  for i in 0 1 2; do
    port=$(free_port); bus=$(free_port)
    redis_node_start "$dir" "node$i" "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 2000 --cluster-port "$bus"
    REDIS_NODE_PORTS+=("$port"); addrs+=("127.0.0.1:$port")
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 ||
    die "redis-cli --cluster create failed: $(tail -5 "$dir/cluster-create.log")"
  for i in $(seq 300); do
    local ok=1
    for port in "${REDIS_NODE_PORTS[@]}"; do
      redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || ok=0
    done
    [ $ok = 1 ] && break
    sleep 0.1
  done
  [ $ok = 1 ] || die "the Redis Cluster in $dir is not ok after 30 s"
  REDIS_TOPOLOGY_URL="redis+cluster://$(IFS=,; echo "${addrs[*]}")"
}

redis_sentinel_start() {
  local dir=$1 i p r port addrs=()
  mkdir -p "$dir"
  REDIS_MASTER_NAME=helmgate
  p=$(free_port); r=$(free_port)
  redis_node_start "$dir" primary "$p"
  redis_node_start "$dir" replica "$r" --replicaof 127.0.0.1 "$p"
  REDIS_NODE_PORTS=("$p" "$r")
  for i in $(seq 300); do
    redis-cli -p "$r" info replication | grep -q 'master_link_status:up' && break
    sleep 0.1
  done
  redis-cli -p "$r" info replication | grep -q 'master_link_status:up' || die "the replica in $dir did not sync"
  REDIS_SENTINEL_PORTS=()
  for i in 0 1 2; do
    port=$(free_port)
    mkdir -p "$dir/sentinel$i"
    cat >"$dir/sentinel$i/sentinel.conf" <<CONF
port $port
bind 127.0.0.1
dir $dir/sentinel$i
sentinel monitor $REDIS_MASTER_NAME 127.0.0.1 $p 2
sentinel down-after-milliseconds $REDIS_MASTER_NAME 1000
sentinel failover-timeout $REDIS_MASTER_NAME 4000
CONF
    redis-server "$dir/sentinel$i/sentinel.conf" --sentinel --logfile "$dir/sentinel$i/sentinel.log" &
    echo $! >>"$dir/pids"; disown $!
    REDIS_SENTINEL_PORTS+=("$port"); addrs+=("127.0.0.1:$port")
  done
  for port in "${REDIS_SENTINEL_PORTS[@]}"; do
    for i in $(seq 100); do
      [ -n "$(redis-cli -p "$port" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME" 2>/dev/null)" ] && break
      sleep 0.05
    done
  done
  REDIS_TOPOLOGY_URL="redis+sentinel://$(IFS=,; echo "${addrs[*]}")/$REDIS_MASTER_NAME"
}

redis_topology_stop() {
  local dir=$1 pid
  [ -f "$dir/pids" ] || return 0
  while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$dir/pids"
  rm -f "$dir/pids"
}
