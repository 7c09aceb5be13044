//! System tests: the whole native stack (every service with 2 replicas,
//! nginx, real MariaDB and Redis), driven through the gateway as a browser
//! or a till would, plus static checks of the deployment files.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod abuse_limits;
mod alerting;
mod audit;
mod browser;
mod brute_force;
mod compose_spec;
mod consistency;
mod dashboards_live;
mod deployment;
mod faults;
mod faults_infra;
mod faults_kill;
mod faults_slow;
mod fuzz;
mod gateway;
mod gateway_limits;
mod harness;
mod history;
mod inputs;
mod journal;
mod journeys;
mod k8s;
mod load;
mod login_burst;
mod observability;
mod permissions;
mod reports;
mod reports_sales;
mod restocking;
mod sales;
mod secrets;
mod security;
mod sessions;
mod supervision;
mod tills;
mod tokens;
