#!/usr/bin/env bash
# A minimal agent in bash, written from docs/protocol.md alone (no SDK, no jq).
# Tasks run one at a time in the background; the payload may set work_ms
# (default 500) and fail (a string: the task fails, retryable). It checkpoints the
# number of tasks done and resumes it from welcome.
# Check it with: agentic-scrum-setup background conformance -- bash examples/agents/plain_agent.sh
set -u
fd=${AGENTIC_PROTOCOL_FD:?run me under the supervisor}
out() { printf '%s\n' "$1" >&"$fd"; }   # one JSON object per line; small writes go out whole
now_ms() { date +%s%3N; }
done_count=0
task_pid=''
task_id=''

run_task() { # id correlation_id work_ms fail
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  out "{\"type\":\"task.started\",\"task_id\":\"$1\",\"correlation_id\":\"$2\"}"
  local begin; begin=$(now_ms)
  for step in 1 2; do
    sleep "$(awk "BEGIN { print $3 / 2000 }")" & sleeper=$!; wait "$sleeper"
    out "{\"type\":\"task.progress\",\"task_id\":\"$1\",\"progress\":$([ "$step" = 1 ] && echo 0.5 || echo 1)}"
  done
  if [ -n "$4" ]; then
    out "{\"type\":\"task.failed\",\"task_id\":\"$1\",\"duration_ms\":$(( $(now_ms) - begin )),\"error\":{\"message\":\"$4\"},\"retryable\":true}"
  else
    out "{\"type\":\"task.finished\",\"task_id\":\"$1\",\"duration_ms\":$(( $(now_ms) - begin )),\"result\":{\"ok\":true}}"
  fi
}

stop_task() { [ -n "$task_pid" ] && kill "$task_pid" 2>/dev/null; task_pid=''; }

out "{\"type\":\"hello\",\"protocol\":1,\"pid\":$$,\"capabilities\":[\"tasks\",\"checkpoint\"]}"
# read -r waits for a whole line: the channel is a byte stream, a line may arrive in pieces.
while IFS= read -r line <&"$fd"; do
  case "$line" in
    *'"type":"welcome"'*)
      [[ $line =~ \"checkpoint\":\{\"done\":([0-9]+) ]] && done_count=${BASH_REMATCH[1]}
      interval=500; [[ $line =~ \"heartbeat_interval_ms\":([0-9]+) ]] && interval=${BASH_REMATCH[1]}
      (out '{"type":"heartbeat"}'; while sleep "$(awk "BEGIN { print $interval / 1000 }")"; do out '{"type":"heartbeat"}'; done) &
      ;;
    *'"type":"ping"'*)
      # the id is a JSON integer: echo the same number (a string id is not a valid ping)
      [[ $line =~ \"id\":(-?[0-9]+)[,}] ]] && out "{\"type\":\"pong\",\"id\":${BASH_REMATCH[1]}}"
      ;;
    *'"type":"task.assign"'*)
      [[ $line =~ \"task\":\{\"id\":\"([^\"]+)\" ]] || continue
      id=${BASH_REMATCH[1]}; corr=''; work=500; fail=''
      [[ $line =~ \"correlation_id\":\"([^\"]*)\" ]] && corr=${BASH_REMATCH[1]}
      [[ $line =~ \"work_ms\":([0-9.]+) ]] && work=${BASH_REMATCH[1]}
      [[ $line =~ \"fail\":\"([^\"]*)\" ]] && fail=${BASH_REMATCH[1]}
      [ -n "$task_pid" ] && wait "$task_pid" 2>/dev/null   # one task at a time
      (run_task "$id" "$corr" "$work" "$fail"; [ -z "$fail" ]) & task_pid=$! task_id=$id
      ;;
    *'"type":"task.cancel"'*)
      # no reply is needed; we stop the task and say so with task.failed
      if [ -n "$task_pid" ] && [[ $line == *"\"task_id\":\"$task_id\""* ]] && kill -0 "$task_pid" 2>/dev/null; then
        stop_task
        out "{\"type\":\"task.failed\",\"task_id\":\"$task_id\",\"duration_ms\":0,\"error\":{\"message\":\"cancelled\",\"code\":\"CANCELLED\"},\"retryable\":false}"
      fi
      ;;
    *'"type":"shutdown"'*)
      stop_task   # abandoned: the supervisor gives the task back to the queue, no attempt used
      wait "$task_pid" 2>/dev/null
      break
      ;;
  esac
  # count finished tasks for the checkpoint
  if [ -n "$task_pid" ] && ! kill -0 "$task_pid" 2>/dev/null; then
    wait "$task_pid" && { done_count=$((done_count + 1)); out "{\"type\":\"checkpoint\",\"state\":{\"done\":$done_count}}"; }
    task_pid=''
  fi
done
out "{\"type\":\"checkpoint\",\"state\":{\"done\":$done_count}}"
kill $(jobs -p) 2>/dev/null
exit 0
