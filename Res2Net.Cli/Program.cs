using Res2Net.Cli;

return CliApp.Run(args, Console.Out, Console.Error);
