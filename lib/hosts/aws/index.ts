// flotilla/aws: the EC2 host pool (needs @pulumi/aws, an optional peer dependency).
export * from "./aws-host-pool-args";
export * from "./aws-host-pool";
export { ec2UserData, instanceArchitecture } from "./aws-checks";
