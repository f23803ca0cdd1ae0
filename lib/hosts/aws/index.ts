// flotilla/aws: the EC2 host pool (needs @pulumi/aws, an optional peer dependency). The stable API
// of this entry, named one by one; the rest of the folder is internal.
export { AwsHostPool } from "./aws-host-pool";
export type { AwsHostPoolArgs, AwsImage } from "./aws-host-pool-args";
