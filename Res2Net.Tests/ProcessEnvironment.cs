using Xunit;

namespace Res2Net.Tests;

/// <summary>
/// Tests that set or depend on process-wide state (environment variables <c>RES2NET_HOME</c>, <c>RES2NET_OFFLINE</c>,
/// <c>RES2NET_DOWNLOAD_BASE</c>; <c>Workers.MaxThreads</c>) run one at a time: xunit runs test classes in parallel, and
/// one class's <c>RES2NET_OFFLINE=1</c> would otherwise switch another's downloads off, or its thread count another's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironment
{
    public const string Name = "Process environment";
}
