import { Injectable } from '@nestjs/common';
import { Flow, type FlowContext } from 'nestjs-gotick';

/** GoTick's parallel_download example: split, then download each part, 4 at a time. */
@Injectable()
export class DownloadFlows {
  @Flow('demo/parallel-download')
  async download(ctx: FlowContext<{ src: string }>) {
    const parts = await ctx.array('split', () => ctx.input.src.split(''));
    const downloads = ctx.asyncArray('download', parts, async (task, part) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return `download(${part}) on attempt ${task.attempt}`;
    });
    return ctx.wait(downloads, { concurrency: 4 });
  }
}
