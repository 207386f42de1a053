use bpi_aws::ErrorKind;
use bpi_aws::ecs::{ServiceCounts, service_counts};

use crate::{clients, create_service};

#[tokio::test]
async fn service_counts_follow_the_desired_count() {
    let clients = clients().await;
    let (cluster, service) = create_service(&clients, 3).await;
    // moto: no task really runs. For an EC2-type service with no container instances it reports the desired
    // tasks as pending (not running, as it does for some other shapes), so only the sum is asserted.
    let counts: ServiceCounts = service_counts(&clients.ecs, &cluster, &service)
        .await
        .expect("describe");
    assert_eq!(counts.desired, 3);
    assert_eq!(counts.running + counts.pending, 3, "{counts:?}");
    let err = service_counts(&clients.ecs, &cluster, "absent")
        .await
        .expect_err("no such service");
    assert_eq!(err.kind, ErrorKind::NotFound);
}
